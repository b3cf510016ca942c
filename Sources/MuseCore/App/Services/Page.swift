/// One page of a newest-first list: stores are asked for `limit + 1` items, so the extra one
/// tells whether a next page exists without a count query.
public enum Page {
    /// The items to show and the cursor of the next page (the last shown id), nil on the last page.
    public static func split<Item>(_ fetched: [Item], limit: Int, id: (Item) -> String) -> (items: [Item], next: String?) {
        let shown = Array(fetched.prefix(limit))
        return (shown, fetched.count > limit ? shown.last.map(id) : nil)
    }
}
