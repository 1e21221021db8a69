fn main() -> std::process::ExitCode {
    dw::run(std::env::args_os())
}
