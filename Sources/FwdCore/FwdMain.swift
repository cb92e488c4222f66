import Foundation
import FwdBindings
import Glibc

/// fwd's entry point: parses the command line, resolves the chain, runs it, and exits with
/// the status of the outcome.
public enum FwdMain {
  public static let version = "0.1.0"

  public static func run() -> Never {
    Socket.ignoreSIGPIPE()
    do {
      switch try ParsedCommand.parse(Array(CommandLine.arguments.dropFirst())) {
      case .help(let text):
        writeStandardOutput(text)
        exit(ExitStatus.success.rawValue)
      case .version:
        writeStandardOutput("fwd \(version) (libssh2 \(LibSSH2.version))\n")
        exit(ExitStatus.success.rawValue)
      case .run(let invocation):
        exit(try Launch(invocation: invocation).run().rawValue)
      }
    } catch {
      Log.shared.write(.error, nil, error.message)
      exit(error.status.rawValue)
    }
  }

  static func writeStandardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }
}

/// One run from a parsed command line: logging, configuration, background mode, smartcard,
/// then the forwards.
struct Launch {
  let invocation: Invocation

  func run() throws(FwdError) -> ExitStatus {
    try configureLogging()
    let config = try SSHConfig.load(configFile: invocation.configFile)
    let chain = try ChainPlan.resolve(invocation, config: config)
    if invocation.printConfig {
      printConfig(chain)
      return .success
    }
    let plan = try RunPlanBuilder(invocation: invocation, chain: chain).build()

    // Forking must come before any thread starts, so before the smartcard and the hops.
    var reporter: Background.Reporter?
    if invocation.background {
      do {
        reporter = try Background.fork()
      } catch {
        throw FwdError(.software, "cannot go to the background: \(error.description)")
      }
    }
    do {
      return try serve(plan, chain: chain, reporter: reporter)
    } catch {
      reporter?.failed(status: error.status.rawValue)
      throw error
    }
  }

  private func serve(_ plan: RunPlan, chain: ChainPlan, reporter: Background.Reporter?) throws(FwdError)
    -> ExitStatus
  {
    let signals: SignalPipe
    do {
      signals = try SignalPipe(signals: [SIGINT, SIGTERM, SIGUSR1])
    } catch {
      throw FwdError(.software, error.description)
    }
    let smartcard = try openSmartcard(chain)
    let runtime = try Runtime(plan: plan, verifier: KnownHostsVerifier())
    let status = try runtime.run(signals: signals, tokenKeys: smartcard?.keys ?? []) { lines in
      announce(lines, reporter: reporter)
    }
    if let pidFile = invocation.pidFile { unlink(pidFile) }
    return status
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

  private func announce(_ lines: String, reporter: Background.Reporter?) {
    if let fd = invocation.readyFD {
      _ = lines.withCString { write(fd, $0, strlen($0)) }
      close(fd)
    }
    if let reporter {
      // Leave the terminal's session before the parent can exit. A parent that leads the
      // session (fwd run by script(1), or as `ssh -t host fwd -f ...`) hangs up the terminal
      // when it exits, and the kernel then sends SIGHUP to the terminal's foreground process
      // group, which this process is in until setsid.
      _ = setsid()
      reporter.ready(lines)
    } else {
      FwdMain.writeStandardOutput(lines)
    }
    if let pidFile = invocation.pidFile {
      let text = "\(getpid())\n"
      if FileManager.default.createFile(atPath: pidFile, contents: Data(text.utf8)) == false {
        logError(nil, "cannot write the process ID to --pidfile \(pidFile)")
      }
    }
  }

  private func configureLogging() throws(FwdError) {
    if invocation.quiet {
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

  private func printConfig(_ chain: ChainPlan) {
    var text = ""
    for hop in chain.hops {
      if chain.hops.count > 1 { text += "# \(hop.name)\n" }
      text += ConfigDump.render(hop.settings)
    }
    FwdMain.writeStandardOutput(text)
  }
}
