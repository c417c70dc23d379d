//! The residents' storefront: the bundle every phone downloads first.

fn main() {
    leptos::mount::mount_to_body(frontend::market::App);
}
