//! The storefront comes in bundles, so that a phone downloads only the pages it uses (see
//! `frontend/src/lib.rs`): the residents' `market` (browse, log in: every first visit), their
//! `shop` (cart, checkout, orders, group-buys) and the `workers`' pages. The server answers a page's path
//! with its bundle's page, and a bundle that is asked for another bundle's page loads it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    Market,
    Shop,
    Workers,
}

impl Bundle {
    pub const ALL: [Bundle; 3] = [Bundle::Market, Bundle::Shop, Bundle::Workers];

    /// The bundle whose page `path` (`/orders/12`, `/staff?x=1`) is; every unknown path is the market's.
    pub fn of(path: &str) -> Bundle {
        let under = |prefix: &str| {
            path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
        };
        if ["/staff", "/vendor", "/volunteer", "/producer"].into_iter().any(under) {
            Bundle::Workers
        } else if ["/cart", "/checkout", "/orders", "/group", "/prices", "/donate", "/household", "/standing", "/gate"]
            .into_iter()
            .any(under)
        {
            Bundle::Shop
        } else {
            Bundle::Market
        }
    }

    /// Its name: `pkg/{name}.js` and `pkg/{name}_bg.wasm`.
    pub fn name(self) -> &'static str {
        match self {
            Bundle::Market => "market",
            Bundle::Shop => "shop",
            Bundle::Workers => "workers",
        }
    }

    /// The HTML page that starts it.
    pub fn page(self) -> &'static str {
        match self {
            Bundle::Market => "index.html",
            Bundle::Shop => "shop.html",
            Bundle::Workers => "workers.html",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_path() {
        for (path, bundle) in [
            ("/", Bundle::Market),
            ("/products/3", Bundle::Market),
            ("/login?next=/staff", Bundle::Market),
            ("/staffing", Bundle::Market),
            ("/no-such-page", Bundle::Market),
            ("/cart", Bundle::Shop),
            ("/checkout", Bundle::Shop),
            ("/orders", Bundle::Shop),
            ("/orders/12?placed=1", Bundle::Shop),
            ("/standing?from=cart", Bundle::Shop),
            ("/group", Bundle::Shop),
            ("/group/3/console", Bundle::Shop),
            ("/groups", Bundle::Market),
            ("/staff", Bundle::Workers),
            ("/staff/", Bundle::Workers),
            ("/vendor/orders", Bundle::Workers),
            ("/volunteer#x", Bundle::Workers),
        ] {
            assert_eq!(Bundle::of(path), bundle, "{path}");
        }
    }
}
