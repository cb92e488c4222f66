// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "fwd",
  products: [
    .executable(name: "fwd", targets: ["fwd"]),
    .executable(name: "fwd-lab", targets: ["fwd-lab"]),
  ],
  targets: [
    // C libraries from Debian, seen through module maps. Only FwdBindings imports them.
    .systemLibrary(
      name: "CLibSSH2",
      pkgConfig: "libssh2",
      providers: [.apt(["libssh2-1-dev"])]
    ),
    .systemLibrary(
      name: "CP11Kit",
      pkgConfig: "p11-kit-1",
      providers: [.apt(["libp11-kit-dev"])]
    ),
    .systemLibrary(
      name: "CLibCrypto",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"])]
    ),

    // The C boundary: libssh2, PKCS#11, OpenSSL and POSIX calls, with typed errors.
    .target(
      name: "FwdBindings", dependencies: ["CLibSSH2", "CP11Kit", "CLibCrypto", "FwdKeystream"]),
    // Part of the boundary, in C because it defines OpenSSL functions that libssh2 calls:
    // a keystream cache under libssh2 1.10's one-call-per-block AES-CTR (see its header).
    .target(
      name: "FwdKeystream", dependencies: ["CLibCrypto"],
      cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("dl")]),

    // Everything else: command line, ssh_config, known_hosts, the hop chain and forwards.
    .target(name: "FwdCore", dependencies: ["FwdBindings"]),
    .executableTarget(name: "fwd", dependencies: ["FwdCore"]),

    // The lab of real sshd instances used by the tests, `make demo` and `make bench`.
    .target(name: "FwdLab"),
    .executableTarget(name: "fwd-lab", dependencies: ["FwdLab"]),

    .testTarget(name: "FwdCoreTests", dependencies: ["FwdCore"]),
    .testTarget(name: "FwdEndToEndTests", dependencies: ["FwdLab"]),
  ],
  swiftLanguageModes: [.v5]
)

// A PKCS#11 module for tests: SoftHSM behind a simulated retry counter and PIN pad, built as
// a shared library (.build/<configuration>/libFwdTestToken.so) that tests load like a card's.
package.targets.append(
  .target(
    name: "FwdTestToken", dependencies: ["CP11Kit"], linkerSettings: [.linkedLibrary("dl")]))
package.products.append(
  .library(name: "FwdTestToken", type: .dynamic, targets: ["FwdTestToken"]))

// The smartcard tests call FwdCore directly, beside the built fwd.
for target in package.targets where target.name == "FwdEndToEndTests" {
  target.dependencies.append("FwdCore")
}

// Measures fwd against OpenSSH's ssh -J in the lab, for `make bench`.
package.targets.append(.executableTarget(name: "fwd-bench", dependencies: ["FwdLab"]))
package.targets.append(
  .testTarget(name: "FwdBenchTests", dependencies: ["fwd-bench", "FwdLab"]))
