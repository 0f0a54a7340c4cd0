//! `marginalia-sim`: learning curves with a known-label oracle. All logic lives in
//! `marginalia::sim`; this only wires arguments, stdout and the exit code.
//! Native only: cargo also builds binaries when it builds the wasm32 test suite, so on
//! wasm32 this compiles to a program that just says it is not for that target.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = std::io::stdout();
    match marginalia::sim::main_with(&args, &mut stdout.lock()) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("marginalia-sim: {e}");
            if matches!(e, marginalia::Error::InvalidParam { .. }) {
                eprintln!("{}", marginalia::sim::USAGE);
            }
            std::process::exit(2);
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    eprintln!("marginalia-sim is a native command-line program; build it for the host, not wasm32");
    std::process::exit(2);
}
