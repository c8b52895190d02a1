//! The `a55-console` binary; all logic lives in the library so tests and benches can use it.

fn main() -> std::process::ExitCode {
    console_server::cli::run()
}
