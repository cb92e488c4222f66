public enum FwdMain { public static func run() {} }
