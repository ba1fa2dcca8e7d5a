//! `twinmint`: the headless CLI over TwinMint's stages (the studio is launched from here too,
//! once the app plugins land).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
