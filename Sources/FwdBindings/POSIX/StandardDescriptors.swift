import Glibc

/// Descriptors 0, 1 and 2 as a process started with some of them closed needs them.
public enum StandardDescriptors {
  /// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so that a file fwd opens
  /// later (the -E log, a socket) cannot take the number and receive what is meant for
  /// standard output or error, as after `fwd ... >&-`.
  public static func reserve() {
    for descriptor in Int32(0)...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
      let opened = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
      // open returns the lowest free number, which is this one unless a lower one was closed
      // too; the loop goes upwards, so lower ones are already open.
      if opened >= 0 && opened != descriptor {
        dup2(opened, descriptor)
        close(opened)
      }
    }
  }
}
