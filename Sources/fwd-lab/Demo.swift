import Foundation
import FwdLab

/// Runs the demo with the fwd at `fwdPath`; returns the exit code.
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
  print("$ fwd \(demo.fwdArguments.joined(separator: " "))")

  let fwd = try FwdProcess(arguments: demo.fwdArguments, binary: fwdPath)
  let ready: [ReadyLine]
  do {
    ready = try fwd.waitForReadyLines(count: 1, timeout: .seconds(30))
  } catch {
    print("demo failed: \(error)")
    return 1
  }
  print("fwd: \(ready[0])")

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
  print("demo passed: the answer came back through fwd, build and sign")
  return 0
}
