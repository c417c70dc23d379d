//! The residents' cart, checkout and orders.

fn main() {
    leptos::mount::mount_to_body(frontend::shop::App);
}
