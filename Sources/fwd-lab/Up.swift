import Foundation
import FwdLab
import Glibc

/// Starts a lab, prints where everything is, and runs until SIGINT or SIGTERM.
func runUp(hostNames: [String]) throws {
  // Blocked before the lab starts its threads, so that they inherit the mask and only
  // sigwait below receives these signals. The lab unblocks them in the processes it starts.
  var signals = sigset_t()
  sigemptyset(&signals)
  sigaddset(&signals, SIGINT)
  sigaddset(&signals, SIGTERM)
  pthread_sigmask(SIG_BLOCK, &signals, nil)

  let lab = try Lab(hostNames: hostNames)
  var lines = [
    "lab_dir=\(lab.directory)",
    "ssh_config=\(lab.sshConfigPath)",
    "known_hosts=\(lab.knownHostsPath)",
    "user_key=\(lab.userKey.privateKeyPath)",
    "user=\(lab.userName)",
  ]
  for host in lab.hosts {
    lines.append("\(host.name)_port=\(host.port)")
    lines.append("\(host.name)_pid=\(host.pid ?? 0)")
  }
  lines += [
    "echo_port=\(lab.echoPort)",
    "sink_port=\(lab.sinkPort)",
    "source_port=\(lab.sourcePort)",
    "demo_port=\(lab.demoPort)",
    "ready=1",
  ]
  print(lines.joined(separator: "\n"))
  fflush(stdout)

  var received: Int32 = 0
  sigwait(&signals, &received)
  FileHandle.standardError.write(Data("fwd-lab: signal \(received), stopping the lab\n".utf8))
  lab.shutdown()
}
