import Foundation
import FwdLab

// fwd-lab: the lab of real sshd instances as a command, for `make demo` and `make bench`.

let usage = """
  usage: fwd-lab demo --fwd PATH
         fwd-lab up [--hosts NAME,NAME,...]

  demo  starts hosts build and sign, which accept only the key of a SoftHSM token made for the
        demo, prints the token's PIN, runs `fwd -I SOFTHSM -J build sign -L P:localhost:P -v`
        (P is 4444 when free), sends one request through the forward and prints the answer.
        fwd asks for the PIN on the terminal when stdin is one, else the demo passes it with
        --pin-fd. Exits 0 only when the answer came back through fwd after one token login.
  up    starts a lab (default hosts build,sign,deep) and prints key=value lines: the lab
        directory, ssh_config, known_hosts, user key, host ports and service ports, then
        ready=1. Runs until SIGINT or SIGTERM, then stops everything.
  """

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("fwd-lab: \(message)\n".utf8))
  exit(1)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("missing command\n\(usage)") }
arguments.removeFirst()

do {
  switch command {
  case "demo":
    guard arguments.count == 2, arguments[0] == "--fwd" else {
      fail("invalid demo arguments \(arguments): expected --fwd PATH\n\(usage)")
    }
    exit(try runDemo(fwdPath: arguments[1]))
  case "up":
    var hostNames = Lab.defaultHostNames
    if arguments.count == 2 && arguments[0] == "--hosts" {
      hostNames = arguments[1].split(separator: ",").map(String.init)
    } else if !arguments.isEmpty {
      fail("invalid up arguments \(arguments): expected [--hosts NAME,NAME,...]\n\(usage)")
    }
    try runUp(hostNames: hostNames)
  case "-h", "--help", "help":
    print(usage)
  default:
    fail("unknown command '\(command)'\n\(usage)")
  }
} catch {
  fail("\(error)")
}
