import ArgumentParser
import MuseCore
import MuseInfra

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a root command from top-level code in `main.swift`, where `@main` cannot be used and
/// the synchronous `main()` would be chosen; async subcommands (`serve`) are awaited.
public enum CommandEntry {
    public static func run(_ root: any ParsableCommand.Type) async {
        // What a binary creates (the database, the worker token, images) is its own: 0600 files,
        // 0700 directories, whatever umask it was started with.
        umask(0o077)
        do {
            var command = try root.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            root.exit(withError: error)
        }
    }
}
