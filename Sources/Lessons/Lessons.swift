// The lesson renderer and corpus (issue 5): libcmark's AST rendered to the terminal and to HTML.
import CCmark
import ContlabCore

public enum LessonsModule {
    public static let cmarkVersion = String(cString: cmark_version_string())
}
