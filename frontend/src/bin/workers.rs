//! The workers' pages (staff; vendors and volunteers next): a bundle residents never download.

fn main() {
    leptos::mount::mount_to_body(frontend::workers::App);
}
