/// The regular expression of a WSGIScriptAliasMatch. Apache's regular expressions are PCRE's;
/// Swift's Regex reads the same Perl syntax. A URI is bytes, not text: it is matched as its
/// Latin-1 decoding, one Unicode scalar per byte, so that offsets and groups are its bytes.
/// The compiled Regex is never changed after init, so sharing it across threads is safe.
public final class AliasPattern: @unchecked Sendable {
    public let source: String
    private let regex: Regex<AnyRegexOutput>

    /// What a match found: where the whole match ends (a byte count) and each group's bytes,
    /// nil for a group that took no part. groups[0] is the whole match.
    public struct Match {
        public let end: Int
        public let groups: [[UInt8]?]
    }

    init(_ source: String) throws {
        self.source = source
        do {
            regex = try Regex(source).matchingSemantics(.unicodeScalar)
        } catch {
            throw Reason("is not a regular expression: \(error)")
        }
        // Regex compiles its program on first use: done here, in Apache's parent, before
        // any request thread shares it.
        _ = try? regex.firstMatch(in: "")
    }

    public func match(_ uri: [UInt8]) -> Match? {
        let text = String(String.UnicodeScalarView(uri.map { Unicode.Scalar($0) }))
        guard let found = try? regex.firstMatch(in: text) else { return nil }
        let scalars = text.unicodeScalars
        func bytes(_ range: Range<String.Index>) -> [UInt8] { scalars[range].map { UInt8($0.value) } }
        return Match(end: scalars.distance(from: scalars.startIndex, to: found.range.upperBound),
                     groups: found.output.map { $0.range.map(bytes) })
    }

    /// `template` with `$0`...`$9` and `&` (the whole match) replaced by the groups, as Apache's
    /// ap_pregsub does; a backslash makes the next character literal.
    public static func substitute(_ template: String, _ groups: [[UInt8]?]) -> [UInt8] {
        var result: [UInt8] = []
        var rest = template.utf8[...]
        while let c = rest.popFirst() {
            var group: Int?
            if c == UInt8(ascii: "&") {
                group = 0
            } else if c == UInt8(ascii: "$"), let digit = rest.first, (0x30...0x39).contains(digit) {
                group = Int(digit - 0x30)
                rest.removeFirst()
            }
            if let group {
                result += (group < groups.count ? groups[group] : nil) ?? []
            } else if c == UInt8(ascii: "\\"), let next = rest.popFirst() {
                result.append(next)
            } else {
                result.append(c)
            }
        }
        return result
    }

    public static func hasSubstitutions(_ template: String) -> Bool {
        template.contains("$") || template.contains("&")
    }

    /// Every name `template` can become, when that is decidable from the pattern: each group
    /// it names must take part in every match and be a plain alternation of words, such as
    /// (blog|shop). nil when some group can match names that cannot be listed.
    public func names(_ template: String) -> [String]? {
        // A case-insensitive pattern matches more spellings than its words.
        guard !source.contains("(?i") else { return nil }
        var names = [""]
        var rest = Substring(template)
        while let c = rest.popFirst() {
            var choices: [String]
            if c == "&" {
                return nil
            } else if c == "$", let digit = rest.first?.wholeNumberValue {
                rest.removeFirst()
                guard let words = fixedChoices(group: digit) else { return nil }
                choices = words
            } else if c == "\\", let next = rest.popFirst() {
                choices = [String(next)]
            } else {
                choices = [String(c)]
            }
            names = names.flatMap { name in choices.map { name + $0 } }
            if names.count > 1000 { return nil }
        }
        return names
    }

    /// The words group `number` matches, if it is a plain alternation and every match takes
    /// it: it is not quantified, and no alternation or quantifier around it makes it optional.
    private func fixedChoices(group number: Int) -> [String]? {
        let chars = Array(source)
        var opened: [Int] = []          // where each group around the scan position opened
        var bars: [Int] = []            // for each "|", where its group opened (-1: none)
        var quantified: Set<Int> = []   // groups that a quantifier follows
        var captures = 0
        var target: (start: Int, body: Int, end: Int, around: [Int])?
        var i = 0
        while i < chars.count {
            switch chars[i] {
            case "\\": i += 1
            case "[":
                // A class: up to its closing bracket, which may come first ("[]a]").
                i += chars[(i + 1)...].first == "^" ? 2 : 1
                if i < chars.count, chars[i] == "]" { i += 1 }
                while i < chars.count, chars[i] != "]" { i += chars[i] == "\\" ? 2 : 1 }
            case "(":
                let next = Array(chars[(i + 1)...].prefix(3))
                let named = next.starts(with: ["?", "<"]) && !next.starts(with: ["?", "<", "="]) && !next.starts(with: ["?", "<", "!"])
                    || next.starts(with: ["?", "P", "<"]) || next.starts(with: ["?", "'"])
                if next.first != "?" || named {
                    captures += 1
                    // A named group's words begin after its name.
                    let close: Character = next.starts(with: ["?", "'"]) ? "'" : ">"
                    let body = named ? (chars[(i + 3)...].firstIndex(of: close) ?? i) + 1 : i + 1
                    if captures == number { target = (i, body, -1, [-1] + opened) }
                }
                opened.append(i)
            case ")":
                guard let open = opened.popLast() else { return nil }
                if i + 1 < chars.count, "?*+{".contains(chars[i + 1]) { quantified.insert(open) }
                if target?.start == open { target?.end = i }
            case "|":
                bars.append(opened.last ?? -1)
            default: break
            }
            i += 1
        }
        // A quantifier on the group or around it, or an alternative beside it, can leave it out.
        guard let target, target.end >= target.body, !quantified.contains(target.start),
              target.around.allSatisfy({ !quantified.contains($0) && !bars.contains($0) }) else { return nil }
        return words(String(chars[target.body..<target.end]))
    }

    /// "blog|shop" as its words; nil when an alternative is not a plain word.
    private func words(_ alternation: String) -> [String]? {
        var result: [String] = []
        for alternative in alternation.split(separator: "|", omittingEmptySubsequences: false) {
            var word = ""
            var rest = alternative[...]
            while let c = rest.popFirst() {
                if c == "\\", let next = rest.popFirst(), ".-_".contains(next) {
                    word.append(next)
                } else if c.isASCII, c.isLetter || c.isNumber || c == "_" || c == "-" {
                    word.append(c)
                } else {
                    return nil
                }
            }
            guard !word.isEmpty else { return nil }
            result.append(word)
        }
        return result
    }
}
