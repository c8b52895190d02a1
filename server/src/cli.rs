//! Command line: `serve` (default), `check-config` and `simulate`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::clock::SystemClock;
use crate::config::{self, ProcessEnv};
use crate::simulator::{self, SimulatorSettings};
use crate::startup;

#[derive(Parser, Debug)]
#[command(name = "a55-console", version, about = "Web console and API explorer for the a55 payments API")]
pub struct Cli {
    /// Configuration file (TOML). Default: ./console.toml when it exists, else the built-in simulator only.
    #[arg(long, short, env = "A55_CONSOLE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the console (the default).
    Serve,
    /// Validate the configuration, print a summary (never secrets) and exit.
    CheckConfig,
    /// Hash a staff password for `[[auth.users]] password_hash` (argon2id). Reads the password from
    /// the terminal (asked twice, not echoed) or from one line of standard input; never from arguments.
    HashPassword,
    /// Run only the simulator of Cognito and the a55 API, for tests and demos.
    Simulate {
        #[arg(long, default_value_t = 3900)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        #[arg(long, default_value = "console-simulator")]
        client_id: String,
        /// Name of the env var holding the client secret the simulator accepts.
        #[arg(long, default_value = "A55_SIMULATOR_CLIENT_SECRET")]
        client_secret_env: String,
        #[arg(long, default_value_t = 3600)]
        token_lifetime_secs: u64,
        /// Test aid: append every issued access token to this file.
        #[arg(long)]
        issued_tokens_file: Option<PathBuf>,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(cli.config).await,
            Command::CheckConfig => check_config(cli.config),
            Command::HashPassword => hash_password(),
            Command::Simulate { port, host, client_id, client_secret_env, token_lifetime_secs, issued_tokens_file } => {
                simulate(
                    SocketAddr::new(host, port),
                    client_id,
                    &client_secret_env,
                    token_lifetime_secs,
                    issued_tokens_file,
                )
                .await
            }
        }
    })
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("A55_CONSOLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}

fn config_path(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.or_else(|| {
        let default = PathBuf::from("console.toml");
        default.is_file().then_some(default)
    })
}

fn hash_password() -> ExitCode {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ");
        let second = rpassword::prompt_password("Again: ");
        match (first, second) {
            (Ok(first), Ok(second)) if first == second => first,
            (Ok(_), Ok(_)) => {
                eprintln!("the two passwords differ; nothing was hashed");
                return ExitCode::FAILURE;
            }
            (Err(error), _) | (_, Err(error)) => {
                eprintln!("cannot read the password from the terminal: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let mut line = String::new();
        if let Err(error) = std::io::stdin().read_line(&mut line) {
            eprintln!("cannot read the password from standard input: {error}");
            return ExitCode::FAILURE;
        }
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.chars().count() < crate::auth::password::MIN_PASSWORD_CHARS {
        eprintln!(
            "the password must have at least {} characters; nothing was hashed",
            crate::auth::password::MIN_PASSWORD_CHARS
        );
        return ExitCode::FAILURE;
    }
    match crate::auth::password::hash(&password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot hash the password: {error}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(path: Option<PathBuf>) -> ExitCode {
    let path = config_path(path);
    match config::load(path.as_deref(), &ProcessEnv) {
        Ok(config) => {
            println!(
                "configuration OK ({})\n{}",
                path.map_or_else(|| "built-in defaults".to_owned(), |p| p.display().to_string()),
                config::summary(&config)
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprint!("{errors}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(path: Option<PathBuf>) -> ExitCode {
    let config = match config::load(config_path(path).as_deref(), &ProcessEnv) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error} (set server.bind or A55_CONSOLE__SERVER__BIND)", config.bind);
            return ExitCode::FAILURE;
        }
    };
    let console = match startup::start(config, listener, Arc::new(SystemClock)).await {
        Ok(console) => console,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("a55 console listening on http://{}", console.addr);
    match console.run_until_ctrl_c().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("the server stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn simulate(
    addr: SocketAddr,
    client_id: String,
    secret_env: &str,
    lifetime_secs: u64,
    issued_tokens_file: Option<PathBuf>,
) -> ExitCode {
    let Some(secret) = std::env::var(secret_env).ok().filter(|s| !s.is_empty()) else {
        eprintln!("set {secret_env} to the client secret the simulator should accept");
        return ExitCode::FAILURE;
    };
    let settings = SimulatorSettings {
        client_id,
        client_secret: SecretString::from(secret),
        token_lifetime: Duration::from_secs(lifetime_secs.max(1)),
        allowed_scopes: vec!["a55/api".to_owned()],
        issued_tokens_file,
    };
    match simulator::spawn(settings, addr).await {
        Ok(running) => {
            tracing::info!("simulator listening: token URL {} API base {}", running.token_url(), running.api_base());
            let _ = tokio::signal::ctrl_c().await;
            running.shutdown().await;
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot start the simulator on {addr}: {error}");
            ExitCode::FAILURE
        }
    }
}
