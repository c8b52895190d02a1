//! The `a55-console` binary; all logic lives in the library so tests and benches can use it.

/// mimalloc instead of the system allocator: cheaper per allocation on the request path, and it
/// hands freed memory back to the system on its own (BENCHMARKS.md, Overhead and Load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    console_server::cli::run()
}
