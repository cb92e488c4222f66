/// The ssh_config cases `CompatConfigDumpTests` runs through `fwd -G` and `ssh -G`: every
/// keyword fwd acts on, through the config and through `-o`, and the rules for precedence,
/// patterns, Match, Include and tokens.
enum CompatConfigCases {
  typealias Case = CompatConfigDumpTests.Case

  static let all: [Case] =
    basics + precedence + patterns + matching + includes + tokens
    + chains + keywords + syntax

  // MARK: - Basics

  static let basics: [Case] = [
    Case(name: "empty config gives the defaults", config: "", arguments: ["plain"]),
    Case(
      name: "HostName, Port and User",
      config: "Host t\n  HostName Real.Example.ORG\n  Port 2022\n  User alice\n",
      arguments: ["t"]),
    Case(
      name: "every keyword in one block",
      config: """
        Host t
          HostName 10.1.2.3
          Port 2200
          User deploy
          IdentityFile ~/.ssh/x_%h
          IdentityFile /abs/%r
          IdentitiesOnly yes
          IdentityAgent ~/agent-%r.sock
          PKCS11Provider /usr/lib/p11.so
          UserKnownHostsFile ~/k1 /k2/%h
          GlobalKnownHostsFile /g1 ~/g2
          StrictHostKeyChecking accept-new
          HostKeyAlias MyAlias
          HashKnownHosts yes
          ConnectTimeout 1m5s
          ConnectionAttempts 3
          ServerAliveInterval 15
          ServerAliveCountMax 4
          TCPKeepAlive no
          LocalForward 8080 localhost:80
          RemoteForward 9090 localhost:90
          DynamicForward 1080
          ExitOnForwardFailure yes
          GatewayPorts yes
          BatchMode yes
          AddressFamily inet
          BindAddress 127.0.0.1
          LogLevel VERBOSE
          Ciphers aes128-ctr,aes256-ctr
          MACs hmac-sha2-256,hmac-sha2-512
          KexAlgorithms curve25519-sha256,ecdh-sha2-nistp256
          HostKeyAlgorithms ssh-ed25519,ecdsa-sha2-nistp256
          ProxyCommand nc %h %p
        """,
      arguments: ["t"]),
    Case(
      name: "every keyword through -o",
      config: "",
      arguments: [
        "-o", "HostName=h.example", "-o", "Port=2", "-o", "User=u", "-o", "IdentityFile=/k1",
        "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=/agent", "-o", "PKCS11Provider=/p.so",
        "-o", "UserKnownHostsFile=/u1 /u2", "-o", "GlobalKnownHostsFile=/g",
        "-o", "StrictHostKeyChecking=accept-new", "-o", "HostKeyAlias=ALIAS",
        "-o", "HashKnownHosts=yes", "-o", "ConnectTimeout=5", "-o", "ConnectionAttempts=4",
        "-o", "ServerAliveInterval=6", "-o", "ServerAliveCountMax=7", "-o", "TCPKeepAlive=no",
        "-o", "LocalForward=1234 h:5", "-o", "RemoteForward=2345 h:6",
        "-o", "DynamicForward=3456", "-o", "ExitOnForwardFailure=yes",
        "-o", "GatewayPorts=yes", "-o", "BatchMode=yes", "-o", "AddressFamily=inet6",
        "-o", "BindAddress=::1", "-o", "LogLevel=DEBUG2", "-o", "Ciphers=aes128-ctr",
        "-o", "MACs=hmac-sha2-512", "-o", "KexAlgorithms=ecdh-sha2-nistp256",
        "-o", "HostKeyAlgorithms=ssh-ed25519", "-o", "ProxyCommand=nc %h %p", "t",
      ]),
    Case(
      name: "ProxyJump through -o",
      config: "",
      arguments: ["-o", "ProxyJump=a@b:3,c", "t"],
      jumpHosts: [["-l", "a", "-p", "3", "b"], ["-J", "a@b:3", "c"]]),
  ]

  // MARK: - Precedence

  static let precedence: [Case] = [
    Case(
      name: "-o wins over the config for every keyword",
      config: """
        Host t
          HostName cfg.example
          Port 1
          User cfg
          IdentitiesOnly no
          StrictHostKeyChecking yes
          HostKeyAlias cfgalias
          ConnectTimeout 9
          ServerAliveInterval 9
          TCPKeepAlive yes
          BatchMode no
          AddressFamily inet
          LogLevel ERROR
          Ciphers aes256-ctr
          UserKnownHostsFile /cfg/known
        """,
      arguments: [
        "-o", "HostName=cli.example", "-o", "Port=2", "-o", "User=cli",
        "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "HostKeyAlias=cli",
        "-o", "ConnectTimeout=3", "-o", "ServerAliveInterval=4", "-o", "TCPKeepAlive=no",
        "-o", "BatchMode=yes", "-o", "AddressFamily=inet6", "-o", "LogLevel=DEBUG3",
        "-o", "Ciphers=aes128-ctr", "-o", "UserKnownHostsFile=/cli/known", "t",
      ]),
    Case(
      name: "first value wins across blocks",
      config: """
        Host t
          Port 1111
          User first
        Host *
          Port 2222
          User second
          ConnectTimeout 20
        Host t
          ConnectTimeout 30
        """,
      arguments: ["t"]),
    Case(
      name: "Host * first wins over a later block",
      config: "Host *\n  User everyone\nHost t\n  User specific\n  Port 2\n",
      arguments: ["t"]),
    Case(
      name: "-l wins over user@ and User",
      config: "Host t\n  User cfg\n",
      arguments: ["-l", "cli", "alice@t"]),
    Case(
      name: "user@ wins over User",
      config: "Host t\n  User cfg\n",
      arguments: ["alice@t"]),
    Case(
      name: "-p wins over the ssh URI port",
      config: "Host t\n  Port 1\n",
      arguments: ["-p", "2200", "ssh://bob@t:2022"]),
    Case(
      name: "ssh URI user and port",
      config: "Host t\n  User cfg\n  Port 1\n",
      arguments: ["ssh://alice@t:2022"]),
    Case(
      name: "-i files come before the config's",
      config: "Host t\n  IdentityFile /cfg/key\n  IdentityFile /cfg/key\n",
      arguments: ["-i", "@DIR@/config", "-i", "/nonexistent/key", "-i", "/etc/hostname", "t"]),
    Case(
      name: "-I wins over PKCS11Provider",
      config: "Host t\n  PKCS11Provider /cfg.so\n",
      arguments: ["-I", "/cli.so", "t"]),
    Case(
      name: "-4 wins over AddressFamily and -o",
      config: "Host t\n  AddressFamily inet6\n",
      arguments: ["-o", "AddressFamily=inet6", "-4", "t"]),
    Case(
      name: "-L comes before LocalForward lines",
      config: "Host t\n  LocalForward 5 h:6\n  LocalForward 5 h:6\n",
      arguments: ["-L", "7070:a:70", "-L", "[::1]:7071:[fe80::1]:71", "t"]),
  ]

  // MARK: - Host patterns

  static let patterns: [Case] = [
    Case(
      name: "star and question mark patterns",
      config: "Host web?\n  User webuser\nHost *.corp\n  Port 2200\nHost *\n  User other\n",
      arguments: ["web1.corp"]),
    Case(
      name: "question mark matches one character",
      config: "Host web?\n  User webuser\nHost *\n  User other\n",
      arguments: ["web1"]),
    Case(
      name: "negated pattern excludes a host",
      config: "Host *.corp !bad.corp\n  User corpuser\nHost *\n  User fallback\n",
      arguments: ["bad.corp"]),
    Case(
      name: "negated pattern alone never matches",
      config: "Host !foo\n  User neg\nHost *\n  User all\n",
      arguments: ["bar"]),
    Case(
      name: "Host patterns are case-sensitive",
      config: "Host Web\n  User upper\nHost web\n  User lower\n",
      arguments: ["web"]),
    Case(
      name: "Host matches the name as typed, not HostName",
      config: "Host alias\n  HostName real\nHost real\n  User realuser\n",
      arguments: ["alias"]),
  ]

  // MARK: - Match

  static let matching: [Case] = [
    Case(
      name: "Match host tests HostName",
      config: "Host a\n  HostName b.example\nMatch host b.example\n  Port 9\n",
      arguments: ["a"]),
    Case(
      name: "Match originalhost tests the name as typed",
      config: "Host a\n  HostName b\nMatch originalhost a\n  User orig\nMatch originalhost b\n  Port 7\n",
      arguments: ["a"]),
    Case(
      name: "Match user and localuser",
      config: """
        Host t
          User deploy
        Match user deploy localuser root,*
          Port 2201
        Match !user deploy
          IdentityFile /never
        """,
      arguments: ["t"]),
    Case(
      name: "Match exec runs with tokens",
      config: """
        Match exec "test %h = t.example"
          User execuser
        Host t
          HostName t.example
        Match exec "test %n = t"
          Port 2202
        Match exec false
          ConnectTimeout 5
        """,
      arguments: ["t"]),
    Case(
      name: "Match all and negation",
      config: "Match !host nothing\n  BatchMode yes\nMatch all\n  GatewayPorts yes\n",
      arguments: ["t"]),
    Case(
      name: "Match final re-reads with HostName",
      config: """
        Host * !bastion
          User everyone
        Host alias
          HostName BAR
        Match final
          Port 3333
        Host bar
          IdentityFile /bar
        Match canonical host bar
          IdentityFile /canon
        Match !final
          IdentityFile /notfinal
        """,
      arguments: ["alias"]),
    Case(
      name: "CanonicalizeHostname enables Match canonical",
      config: """
        Host x
          CanonicalizeHostname yes
          HostName X.Example
        Host x.example
          Port 7
        Match canonical
          User canon
        """,
      arguments: ["x"]),
  ]

  // MARK: - Include

  static let includes: [Case] = [
    Case(
      name: "Include an absolute path",
      config: "Include @DIR@/inc/one.conf\nHost *\n  User later\n",
      arguments: ["t"],
      files: ["inc/one.conf": "Host t\n  User included\n  Port 2201\n"]),
    Case(
      name: "Include a glob in sorted order",
      config: "Include @DIR@/inc/*.conf\n",
      arguments: ["t"],
      files: [
        "inc/b.conf": "Host *\n  User fromB\n  IdentityFile /b\n",
        "inc/a.conf": "Host *\n  User fromA\n  IdentityFile /a\n",
      ]),
    Case(
      name: "Include inside a block that does not apply",
      config: "Host other\n  Include @DIR@/inc/x.conf\nHost *\n  Port 2203\n",
      arguments: ["t"],
      files: ["inc/x.conf": "User ignored\nHost *\n  ConnectTimeout 4\n"]),
    Case(
      name: "Include inside a Match block that applies",
      config: "Match host t\n  Include @DIR@/inc/m.conf\n",
      arguments: ["t"],
      files: ["inc/m.conf": "User fromMatch\nHost t\n  Port 2204\n"]),
    Case(
      name: "Include of a missing file",
      config: "Include @DIR@/inc/missing*.conf\nHost t\n  User present\n",
      arguments: ["t"]),
  ]

  // MARK: - Tokens

  static let tokens: [Case] = [
    Case(
      name: "tokens in IdentityFile and UserKnownHostsFile",
      config: """
        Host *
          HostName %h.example
          UserKnownHostsFile ~/kh/%h-%p-%r-%C %d/%u-%n %l-%L-%i
          IdentityFile %d/%h_%%
        """,
      arguments: ["-l", "bob", "-p", "2200", "Target"]),
    Case(
      name: "HostKeyAlias in %k",
      config: "Host t\n  HostKeyAlias Zed\n  UserKnownHostsFile ~/known-%k\n",
      arguments: ["t"]),
    Case(
      name: "environment variables in paths",
      config: """
        Host t
          IdentityFile ${FWD_COMPAT_DIR}/id_%h
          CertificateFile ${FWD_COMPAT_DIR}/cert
          UserKnownHostsFile ${FWD_COMPAT_DIR}/known
          IdentityAgent ${FWD_COMPAT_DIR}/agent.sock
        """,
      arguments: ["t"]),
    Case(
      name: "IdentityAgent forms",
      config: """
        Host a
          IdentityAgent SSH_AUTH_SOCK
        Host b
          IdentityAgent $FWD_COMPAT_DIR
        Host c
          IdentityAgent none
        Host d
          IdentityAgent ~/agent.%r
        """,
      arguments: ["d"]),
    Case(
      name: "IdentityAgent from a variable",
      config: "IdentityAgent $FWD_COMPAT_DIR\n",
      arguments: ["t"]),
    Case(
      name: "ProxyCommand is printed unexpanded",
      config: "Host t\n  HostName t.example\n  ProxyCommand ssh -W %h:%p -l %r bastion # note\n",
      arguments: ["t"]),
  ]

  // MARK: - Jump hosts and proxies

  static let chains: [Case] = [
    Case(
      name: "ProxyJump list with user, port and IPv6",
      config: "Host t\n  ProxyJump u@j1:23,j2,[::1]:99\n",
      arguments: ["t"],
      jumpHosts: [
        ["-l", "u", "-p", "23", "j1"], ["-J", "u@j1:23", "j2"],
        ["-J", "u@j1:23,j2", "-p", "99", "::1"],
      ]),
    Case(
      name: "ProxyJump of a jump host is followed",
      config: "Host dest\n  ProxyJump j2\nHost j2\n  ProxyJump j1\n  User j2user\nHost j1\n  Port 2201\n",
      arguments: ["dest"],
      jumpHosts: [["j1"], ["j2"]]),
    Case(
      name: "-J replaces ProxyJump",
      config: "Host t\n  ProxyJump cfgjump\nHost j\n  User jumper\n",
      arguments: ["-J", "j", "t"],
      jumpHosts: [["j"]]),
    Case(
      name: "-J none ignores ProxyJump and ProxyCommand",
      config: "Host t\n  ProxyCommand nc %h %p\n  ProxyJump cfgjump\n",
      arguments: ["-J", "none", "t"]),
    Case(
      name: "ProxyJump set first wins over ProxyCommand",
      config: "Host t\n  ProxyJump j\n  ProxyCommand nc %h %p\n",
      arguments: ["t"],
      jumpHosts: [["j"]]),
    Case(
      name: "ProxyCommand set first wins over ProxyJump",
      config: "Host t\n  ProxyCommand nc %h %p\n  ProxyJump j\n",
      arguments: ["t"]),
    Case(
      name: "numeric jump host",
      config: "Host u\n  ProxyJump 10.0.0.1\n",
      arguments: ["u"],
      jumpHosts: [["10.0.0.1"]]),
    Case(
      name: "jump hosts keep their config over -o",
      config: "Host j\n  ConnectTimeout 9\n  StrictHostKeyChecking yes\n",
      arguments: ["-o", "ConnectTimeout=5", "-J", "j", "t"],
      jumpHosts: [["j"]]),
    Case(
      name: "-o and -i fill what a jump host leaves unset",
      config: "Host j\n  User jumper\n",
      arguments: [
        "-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=7",
        "-i", "@DIR@/config", "-J", "j", "t",
      ],
      jumpHosts: [
        [
          "-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=7",
          "-i", "@DIR@/config", "j",
        ]
      ]),
  ]

  // MARK: - Keyword values

  static let keywords: [Case] = [
    Case(
      name: "StrictHostKeyChecking off and HashKnownHosts",
      config: "Host t\n  StrictHostKeyChecking off\n  HashKnownHosts yes\n",
      arguments: ["t"]),
    Case(
      name: "StrictHostKeyChecking ask",
      config: "Host t\n  StrictHostKeyChecking ask\n",
      arguments: ["t"]),
    Case(
      name: "time values",
      config: "Host t\n  ConnectTimeout 1m30s\n  ServerAliveInterval 2h\n  ServerAliveCountMax 0\n",
      arguments: ["t"]),
    Case(
      name: "ConnectTimeout 0 and none",
      config: "Host t\n  ConnectTimeout 0\nHost u\n  ConnectTimeout none\n  ConnectTimeout 8\n",
      arguments: ["t"]),
    Case(
      name: "later time after none",
      config: "Host u\n  ServerAliveInterval none\n  ServerAliveInterval 8\n",
      arguments: ["u"]),
    Case(
      name: "KeepAlive is TCPKeepAlive",
      config: "Host t\n  KeepAlive no\n",
      arguments: ["t"]),
    Case(
      name: "forward forms",
      config: """
        Host t
          LocalForward localhost:8080 127.0.0.1:80
          LocalForward [::1]:8081 [::1]:81
          LocalForward *:8082 h:82
          LocalForward 8083 h:83
          RemoteForward 0 localhost:22
          RemoteForward *:8443
          RemoteForward 9091
          DynamicForward [::1]:1080
          DynamicForward localhost:1081
          DynamicForward 1082
        """,
      arguments: ["t"]),
    Case(
      name: "BatchMode turns on ServerAliveInterval",
      config: "Host t\n  BatchMode yes\n  GatewayPorts yes\n  ExitOnForwardFailure yes\n",
      arguments: ["t"]),
    Case(
      name: "AddressFamily and BindAddress",
      config: "Host t\n  AddressFamily inet6\n  BindAddress ::1\n",
      arguments: ["t"]),
    Case(
      name: "LogLevel QUIET prints as SILENT",
      config: "Host t\n  LogLevel quiet\n",
      arguments: ["t"]),
    Case(
      name: "LogLevel DEBUG1 prints as DEBUG",
      config: "Host t\n  LogLevel debug1\n",
      arguments: ["t"]),
    Case(
      name: "PKCS11Provider none and SmartcardDevice",
      config: "Host t\n  PKCS11Provider none\nHost u\n  SmartcardDevice /alias.so\n",
      arguments: ["u"]),
    Case(
      name: "known_hosts files and none",
      config: "Host t\n  UserKnownHostsFile none\n  GlobalKnownHostsFile ~/global /other\n",
      arguments: ["t"]),
    Case(
      name: "IdentityFile duplicates and IdentitiesOnly",
      config: """
        Host t
          IdentitiesOnly yes
          IdentityFile /k/one
          IdentityFile /k/two
          IdentityFile /k/one
          IdentityFile2 /k/three
        """,
      arguments: ["t"]),
    Case(
      name: "numeric HostName in standard form",
      config: "Host t\n  HostName 127.1\nHost u\n  HostName FE80::0001\n",
      arguments: ["t"]),
    Case(
      name: "IPv6 HostName in standard form",
      config: "Host u\n  HostName FE80::0001\n",
      arguments: ["u"]),
    Case(
      name: "IgnoreUnknown skips an unknown keyword",
      config: "IgnoreUnknown UseKeychain,Foo*\nHost t\n  UseKeychain yes\n  FooBar 1\n  Port 2\n",
      arguments: ["t"]),
    Case(
      name: "keywords fwd does not use",
      config: """
        Host t
          ForwardAgent yes
          ControlMaster auto
          ControlPath ~/.ssh/cm-%C
          Compression yes
          SendEnv LANG LC_*
          Port 2
        """,
      arguments: ["t"]),
  ]

  // MARK: - Line syntax

  static let syntax: [Case] = [
    Case(
      name: "keyword case, equals signs and quotes",
      config: """
        HOSTNAME=foo.example
        port = 2022
        identityfile "/path with space/%h"
        \tUser\t"tab user"
        # a comment
        LocalForward=8080 "h:80"
        """,
      arguments: ["x"]),
    Case(
      name: "CRLF line ends",
      config: "Host t\r\n  Port 2022\r\n  User crlf\r\n",
      arguments: ["t"]),
  ]
}
