import ArgumentParser

/// Runs a root command from top-level code in `main.swift`, where `@main` cannot be used and
/// the synchronous `main()` would be chosen; async subcommands (`serve`) are awaited.
public enum CommandEntry {
    public static func run(_ root: any ParsableCommand.Type) async {
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
