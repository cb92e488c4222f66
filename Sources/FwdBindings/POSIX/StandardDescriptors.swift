import Glibc

/// Descriptors 0, 1 and 2 as a process started with some of them closed needs them.
public enum StandardDescriptors {
  /// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed. Otherwise a file that
  /// fwd opens later, such as the -E log, takes the number and receives what is meant for
  /// standard output or error, as after `fwd ... >&-`.
  public static func reserve() {
    for descriptor in Int32(0)...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
      let opened = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
      // open returns the lowest free number. The loop goes upwards, so the lower numbers are
      // open by now and this one is returned.
      if opened >= 0 && opened != descriptor {
        dup2(opened, descriptor)
        close(opened)
      }
    }
  }
}
