import FwdBindings

/// The `%` token values of one hop, as ssh_config(5) TOKENS defines them.
struct HostTokens {
  var hostName: String
  var originalHost: String
  var port: Int
  var user: String
  var hostKeyAlias: String?
  /// The ProxyJump value in effect for this hop, or nil.
  var proxyJump: String?
  var environment: ConfigEnvironment

  /// `%C`: the hex SHA-1 of `%l%h%p%r%j`. OpenSSH added `%j` to the hash after 9.2, so with
  /// a ProxyJump the value differs from what ssh 9.2 prints; without one they agree.
  var connectionHash: String {
    let input = environment.hostName + hostName + String(port) + user + (proxyJump ?? "")
    return Digest.sha1(Array(input.utf8)).map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }

  /// The tokens of IdentityFile, CertificateFile, IdentityAgent, UserKnownHostsFile and
  /// Match exec: `%% %C %d %h %i %j %k %L %l %n %p %r %u`.
  var pathTokens: [Character: String] {
    [
      "C": connectionHash, "d": environment.homeDirectory, "h": hostName,
      "i": String(environment.userID), "j": proxyJump ?? "", "k": hostKeyAlias ?? originalHost,
      "L": environment.shortHostName, "l": environment.hostName, "n": originalHost,
      "p": String(port), "r": user, "u": environment.userName,
    ]
  }

  /// The tokens of ProxyCommand and ProxyJump: `%% %h %n %p %r`.
  var proxyTokens: [Character: String] {
    ["h": hostName, "n": originalHost, "p": String(port), "r": user]
  }

  /// Returns an expansion of the path tokens, which also expands `${NAME}` when `variables`
  /// is true.
  func expansion(variables: Bool) -> TokenExpansion {
    TokenExpansion(
      tokens: pathTokens, expandsVariables: variables, variables: environment.variables)
  }
}
