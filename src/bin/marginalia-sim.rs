//! `marginalia-sim`: learning curves with a known-label oracle. All logic lives in
//! `marginalia::sim`; this only wires arguments, stdout and the exit code.

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
