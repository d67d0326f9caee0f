/// contlab's version, in one place: `contlab --version` prints it, and so does
/// `contlab-runc --version` (the same binary under runc's name).
public enum ContlabVersion {
    public static let current = "0.1.0"
}
