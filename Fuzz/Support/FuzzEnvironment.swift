import FwdCore

/// A fixed ssh_config environment for fuzzing: no account lookups and no commands run, so
/// each input's result depends on the input alone.
enum FuzzEnvironment {
  static let value = ConfigEnvironment(
    homeDirectory: "/home/fuzz", userName: "fuzz", userID: 1000, hostName: "ws.example.org",
    systemConfigFile: "/nonexistent/ssh_config", systemDirectory: "/nonexistent",
    variables: ["HOME": "/home/fuzz", "FUZZ_DIRECTORY": "/opt/fuzz"],
    homeDirectoryOfUser: { name in name == "other" ? "/home/other" : nil },
    runCommand: { command in
      // `Match exec` succeeds for commands of even length, so both branches are reached.
      command.utf8.count % 2 == 0 ? 0 : 1
    })
}
