import FwdBindings
import Glibc

/// fwd's entry point: parses the command line, resolves the chain, runs it, and exits with
/// the status of the outcome.
public enum FwdMain {
  public static let version = "0.1.0"

  public static func run() -> Never {
    StandardDescriptors.reserve()
    Socket.ignoreSIGPIPE()
    exitWithStatus { () throws(FwdError) -> ExitStatus in
      switch try ParsedCommand.parse(Array(CommandLine.arguments.dropFirst())) {
      case .help(let text):
        writeStandardOutput(text)
        return .success
      case .version:
        writeStandardOutput("fwd \(version) (libssh2 \(LibSSH2.version))\n")
        return .success
      case .run(let invocation):
        return try Launch(invocation: invocation).run()
      }
    }
  }

  /// Runs `body` and exits with its status, or logs the error it throws and exits with the
  /// error's status.
  static func exitWithStatus(_ body: () throws(FwdError) -> ExitStatus) -> Never {
    do {
      finish(try body())
    } catch {
      Log.shared.write(.error, nil, error.message)
      finish(error.status)
    }
  }

  /// Exits with `status`. When a hop thread did not stop in time, _exit skips the libraries'
  /// exit handlers, which would free OpenSSL's state while that thread still uses it.
  private static func finish(_ status: ExitStatus) -> Never {
    if HopLoop.threadsMayRun { _exit(status.rawValue) }
    exit(status.rawValue)
  }

  /// Writes `text` to stdout. A failed write, such as to a closed pipe, is ignored because the
  /// forwards work without the ready lines and listings that go there.
  static func writeStandardOutput(_ text: String) {
    _ = KnownHostsFileIO.writeAll(1, Array(text.utf8))
  }
}

/// One run from a parsed command line: logging, configuration, background mode, smartcard,
/// then the forwards.
struct Launch {
  let invocation: Invocation

  func run() throws(FwdError) -> ExitStatus {
    try configureLogging()
    try checkScriptOptions()
    let config = try SSHConfig.load(configFile: invocation.configFile)
    let chain = try ChainPlan.resolve(invocation, config: config)
    // Only a LogLevel the config sets counts: ssh's default, INFO, would undo the quieter
    // default that -W has.
    if !chain.destination.settings.values("LogLevel").isEmpty {
      applyConfigLogLevel(chain.destination.settings.logLevel)
    }
    if invocation.printConfig {
      printConfig(chain)
      return .success
    }
    let plan = try RunPlanBuilder(invocation: invocation, chain: chain).build()

    // Forking must come before any thread starts, so before the smartcard and the hops. The
    // child goes on in the closure, on a new thread (see Background.fork for the reason).
    if invocation.background {
      do throws(SystemError) {
        try Background.fork { reporter in
          FwdMain.exitWithStatus { () throws(FwdError) -> ExitStatus in
            do throws(FwdError) {
              return try serve(plan, chain: chain, reporter: reporter)
            } catch {
              reporter.failed(status: error.status.rawValue)
              throw error
            }
          }
        }
      } catch {
        throw FwdError(.software, "cannot go to the background: \(error.description)")
      }
    }
    return try serve(plan, chain: chain, reporter: nil)
  }

  private func serve(_ plan: RunPlan, chain: ChainPlan, reporter: Background.Reporter?) throws(FwdError)
    -> ExitStatus
  {
    let signals: SignalPipe
    do {
      signals = try SignalPipe(signals: [SIGINT, SIGTERM, SIGHUP, SIGUSR1])
    } catch {
      throw FwdError(.software, error.description)
    }
    let smartcard = try openSmartcard(chain)
    let runtime = try Runtime(plan: plan, verifier: KnownHostsVerifier())
    runtime.showsStatus = statusViewEnabled()
    let status = try runtime.run(signals: signals, tokenKeys: smartcard?.keys ?? []) {
      (lines: String) throws(FwdError) in
      try announce(lines, reporter: reporter)
    }
    if let pidFile = invocation.pidFile { PIDFile.remove(pidFile) }
    if CipherKeystream.isActive {
      logDebug2("fwd", "keystream cache computed \(CipherKeystream.keystreamBytes) bytes for AES-CTR")
    }
    return status
  }

  /// Rejects a `--ready-fd` or `--pidfile` that cannot work before any hop is dialled, so a
  /// script learns of its mistake at once and not after the chain is up.
  private func checkScriptOptions() throws(FwdError) {
    if let fd = invocation.readyFD {
      if fd <= 2 {
        throw FwdError(
          .usage,
          "--ready-fd \(fd): use a descriptor above 2, as in --ready-fd 3 3>ready.txt: 0, 1 and 2 are "
            + "standard input, output and error")
      }
      if fcntl(fd, F_GETFD) < 0 {
        throw FwdError(
          .usage,
          "--ready-fd \(fd): descriptor \(fd) is not open: open it in the calling shell, as in "
            + "\(fd)>ready.txt")
      }
      // Programs fwd starts (SSH_ASKPASS, Match exec) must not hold it open after fwd closes it.
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    if let pidFile = invocation.pidFile { try PIDFile.checkWritable(pidFile) }
  }

  /// Returns whether to draw the live status view: `--status` was given, stderr is a terminal,
  /// and fwd stays in the foreground, where the view cannot draw over the shell's prompt.
  private func statusViewEnabled() -> Bool {
    guard invocation.statusView else { return false }
    if invocation.background {
      logDebug(nil, "--status ignored: fwd runs in the background (-f)")
      return false
    }
    if !Terminal.isTerminal(2) {
      logDebug(nil, "--status ignored: standard error is not a terminal")
      return false
    }
    return true
  }

  /// Opens the token once, before the first hop is dialled, when any hop uses PKCS#11.
  private func openSmartcard(_ chain: ChainPlan) throws(FwdError) -> SmartcardSession? {
    let providers = chain.hops.compactMap { $0.settings.pkcs11Provider }
    guard let provider = providers.first else { return nil }
    if Set(providers).count > 1 {
      logInfo(nil, "several PKCS11Provider modules are set; using \(provider) for every hop")
    }
    let uris = chain.hops.flatMap { $0.settings.identityFiles }.filter { $0.hasPrefix("pkcs11:") }
    return try Smartcard.open(
      provider: provider.lowercased() == "none" ? nil : provider,
      identityURIs: Array(Set(uris)).sorted(),
      pinSource: invocation.pinSource ?? .interactive,
      batchMode: chain.hops.contains { $0.settings.batchMode },
      allowFinalTry: invocation.pinAllowFinalTry)
  }

  /// Publishes readiness in this order: the pidfile, `--ready-fd`, stdout. The pidfile comes
  /// first because a script may read it as soon as the ready lines appear or `fwd -f` returns.
  private func announce(_ lines: String, reporter: Background.Reporter?) throws(FwdError) {
    if let pidFile = invocation.pidFile { try PIDFile.write(pidFile) }
    if let fd = invocation.readyFD {
      _ = lines.withCString { write(fd, $0, strlen($0)) }
      close(fd)
    }
    guard let reporter else {
      FwdMain.writeStandardOutput(lines)
      return
    }
    // Leave the terminal's session before the parent can exit. A parent that leads the
    // session (fwd run by script(1), or as `ssh -t host fwd -f ...`) hangs up the terminal
    // when it exits, and the kernel then sends SIGHUP to the terminal's foreground process
    // group, which this process is in until setsid.
    _ = setsid()
    reporter.ready(lines)
    if invocation.logFile != nil {
      // Every log line goes to the -E file, so the background process lets go of the caller's
      // stderr. A script that captures it, as in $(fwd -f ... 2>&1), then reads end of file.
      let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
      if null > 2 {
        dup2(null, 2)
        close(null)
      }
    }
  }

  private func configureLogging() throws(FwdError) {
    // With -W, stderr belongs to the program using fwd as its ProxyCommand: only errors go
    // there unless -v asks for more.
    if invocation.quiet || (invocation.stdioForward != nil && invocation.verbosity == 0) {
      Log.shared.level = .error
    } else if invocation.verbosity > 0 {
      Log.shared.level = LogLevel(rawValue: LogLevel.info.rawValue + invocation.verbosity) ?? .debug3
    }
    if let path = invocation.logFile {
      let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
      if fd < 0 {
        throw FwdError(.usage, "-E \(path): cannot open the log file: \(String(cString: strerror(errno)))")
      }
      Log.shared.redirect(to: fd)
    }
  }

  /// Applies the destination's LogLevel when neither `-q` nor `-v` was given, because the
  /// command line wins over the config in ssh as well.
  private func applyConfigLogLevel(_ level: SSHLogLevel) {
    guard !invocation.quiet, invocation.verbosity == 0 else { return }
    switch level {
    case .quiet: Log.shared.level = .quiet
    case .fatal, .error: Log.shared.level = .error
    case .info, .verbose: Log.shared.level = .info
    case .debug1: Log.shared.level = .debug1
    case .debug2: Log.shared.level = .debug2
    case .debug3: Log.shared.level = .debug3
    }
  }

  private func printConfig(_ chain: ChainPlan) {
    var text = ""
    for hop in chain.hops {
      if chain.hops.count > 1 { text += "# \(hop.name)\n" }
      text += ConfigDump.render(hop.settings)
    }
    FwdMain.writeStandardOutput(text)
  }
}
