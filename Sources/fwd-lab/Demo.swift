import Foundation
import FwdLab
import Glibc

/// Runs the demo with the fwd at `fwdPath`; returns the exit code.
///
/// fwd logs in to the demo's SoftHSM token once and signs the logins to build and sign with its
/// key. When stdin is a terminal, fwd prompts for the PIN there. Otherwise (CI, `make demo <
/// /dev/null`) the demo passes the PIN through `--pin-fd 3`.
func runDemo(fwdPath: String) throws -> Int32 {
  let demo = try DemoLab()
  defer { demo.shutdown() }
  let port = demo.port
  if port != demo.preferredPort {
    print("port \(demo.preferredPort) is in use on this machine, so the demo uses port \(port)")
  }
  print(
    "lab: build sshd on 127.0.0.1:\(demo.lab["build"].port), sign sshd on [::1]:\(demo.lab["sign"].port)"
  )
  print("lab: demo service listening on sign's localhost:\(port) ([::1]:\(port))")
  print(
    "lab: SoftHSM token '\(demo.token.label)' with one Ed25519 key,"
      + " the only key build and sign accept")
  print("token PIN: \(demo.token.userPIN) (a throwaway PIN: the token is deleted after the demo)")

  let interactive = isatty(STDIN_FILENO) == 1
  let fwd = try startFwd(demo, fwdPath: fwdPath, interactive: interactive)
  let ready: [ReadyLine]
  do {
    // A person may take a while to type the PIN.
    ready = try fwd.waitForReadyLines(count: 1, timeout: .seconds(interactive ? 300 : 30))
  } catch {
    print("demo failed: \(error)")
    return 1
  }
  print("fwd: \(ready[0])")
  // fwd logs each hop's login before its ready line, but stderr is read on another thread.
  _ = fwd.waitForStandardError(containing: "sign: authenticated as", timeout: .seconds(5))
  let loggedInOnce = showTokenLogins(demo, fwdLog: fwd.standardError)

  let request = "hello through build and sign"
  print("request to 127.0.0.1:\(port): \(request)")
  let answer: String
  do {
    let connection = try LabConnection(port: port)
    try connection.write(request + "\n")
    answer = try connection.readLine(timeout: .seconds(10))
  } catch {
    print("demo failed: no answer through fwd: \(error)")
    fwd.terminate()
    _ = try? fwd.waitForExit(timeout: .seconds(5))
    return 1
  }
  print("answer: \(answer)")
  let signLog = demo.lab.log(of: "sign").split(separator: "\n")
    .filter { $0.contains("server_request_direct_tcpip") }
  if let line = signLog.last {
    print("sign sshd log: \(line)")
  }

  fwd.terminate()
  let status = try fwd.waitForExit(timeout: .seconds(10))
  print("fwd exited with status \(status) after SIGTERM")
  let expected = "hello from the demo service on sign, you sent: \(request)"
  guard answer == expected else {
    print("demo failed: expected the answer '\(expected)'")
    return 1
  }
  guard loggedInOnce else { return 1 }
  print("demo passed: the answer came back through fwd, build and sign, with one token PIN")
  return 0
}

/// Starts fwd with -v, which logs the token login and each hop's key for the demo to show.
/// With `interactive`, fwd prompts for the PIN on the terminal. Otherwise it reads the PIN
/// from a pipe on its descriptor 3.
private func startFwd(_ demo: DemoLab, fwdPath: String, interactive: Bool) throws -> FwdProcess {
  var arguments = demo.fwdArguments + ["-v"]
  var pinDescriptor: Int32?
  if interactive {
    print("stdin is a terminal, so fwd prompts for the token PIN there, once for both hops")
  } else {
    print("stdin is not a terminal, so the demo passes the PIN on descriptor 3 (--pin-fd 3)")
    pinDescriptor = try pinPipe(demo.token.userPIN)
    arguments += ["--pin-fd", "3"]
  }
  defer { if let pinDescriptor { close(pinDescriptor) } }
  print("$ fwd \(arguments.joined(separator: " "))")
  // fwd writes its prompt straight to the terminal, so the lines above must be out first.
  fflush(stdout)
  // SSH_ASKPASS_REQUIRE could send the prompt to an askpass program instead of the terminal.
  return try FwdProcess(
    arguments: arguments, environment: demo.tokenEnvironment,
    unsetEnvironment: ["SSH_ASKPASS_REQUIRE", "SSH_AUTH_SOCK"],
    inheritedDescriptors: pinDescriptor.map { [$0] } ?? [], binary: fwdPath)
}

/// Prints fwd's token login and the key each sshd accepted. Returns true when fwd logged in
/// to the token once and both hosts accepted the token key.
private func showTokenLogins(_ demo: DemoLab, fwdLog: String) -> Bool {
  let lines = fwdLog.split(separator: "\n")
  let logins = lines.filter { $0.contains("logged in with the PIN from") }
  let hops = lines.filter { $0.contains(": authenticated as ") }
  for line in logins + hops { print(line) }
  let fingerprint = demo.token.keys.first?.fingerprint ?? "(no token key)"
  var accepted = true
  for host in ["build", "sign"] {
    let line = demo.lab.log(of: host).split(separator: "\n")
      .last { $0.contains("Accepted publickey for ") }
    print("\(host) sshd log: \(line ?? "no key accepted")")
    if line?.hasSuffix(" " + fingerprint) != true { accepted = false }
  }
  if logins.count != 1 {
    print("demo failed: fwd logged in to the token \(logins.count) times, expected once")
    return false
  }
  if !accepted {
    print("demo failed: build and sign did not both accept the token key \(fingerprint)")
    return false
  }
  return true
}

/// Returns the read end of a pipe that contains `pin` and a newline, its write end closed.
private func pinPipe(_ pin: String) throws -> Int32 {
  var ends: [Int32] = [-1, -1]
  guard pipe(&ends) == 0 else {
    throw LabError("demo: pipe for the PIN failed: \(String(cString: strerror(errno)))")
  }
  defer { close(ends[1]) }
  var line = Array((pin + "\n").utf8)
  defer { for index in line.indices { line[index] = 0 } }
  // A PIN line is far below the pipe buffer, so one write takes all of it.
  guard write(ends[1], line, line.count) == line.count else {
    close(ends[0])
    throw LabError("demo: write of the PIN to its pipe failed: \(String(cString: strerror(errno)))")
  }
  return ends[0]
}
