// contlab's entry point. The container's init is dispatched before any argument parsing: it runs
// on every container start, so it skips swift-argument-parser's cost (see Stage2Namespaces).
import ContlabCore

Contlab.main()
