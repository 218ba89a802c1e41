// Strict parsers for directive and option values. Unlike mod_wsgi's atoi, "2x", "1.5" and ""
// are errors, not 2, 1 and 0.

func onOff(_ text: String) throws -> Bool {
    switch text.lowercased() {
    case "on": return true
    case "off": return false
    default: throw Reason("must be On or Off")
    }
}

/// A decimal integer, optionally negative, with nothing else around it.
func wholeNumber(_ text: String) throws -> Int {
    let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
    guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
        throw Reason("is not a whole number")
    }
    guard let value = Int(text) else { throw Reason("is too large") }
    return value
}

/// The values an integer setting accepts, with the sentence that explains them.
enum Limit {
    case atLeast(Int)
    /// 0 selects the built-in default; anything else must reach the minimum.
    case zeroOrAtLeast(Int)
    case within(ClosedRange<Int>)

    func parse(_ text: String) throws -> Int {
        let value = try wholeNumber(text)
        switch self {
        case .atLeast(0) where value < 0:
            throw Reason("must not be negative")
        case .atLeast(let minimum) where value < minimum:
            throw Reason("must be at least \(minimum)")
        case .zeroOrAtLeast(let minimum) where value != 0 && value < minimum:
            throw Reason("must be 0 (the default) or at least \(minimum)")
        case .within(let range) where !range.contains(value):
            throw Reason("must be between \(range.lowerBound) and \(range.upperBound)")
        default:
            return value
        }
    }
}

/// An octal permission mask such as 0022.
func octalMask(_ text: String) throws -> UInt32 {
    let isOctal = text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }
    guard isOctal, let value = UInt32(text, radix: 8) else {
        throw Reason("is not an octal number")
    }
    guard value <= 0o777 else { throw Reason("must be at most 0777") }
    return value
}

func absolutePath(_ text: String) throws -> String {
    guard text.hasPrefix("/") else { throw Reason("must be an absolute path") }
    return text
}

/// A ":"-separated search path; empty entries (from "a::b" or a trailing ":") mean nothing.
func searchPath(_ text: String) -> [String] {
    text.split(separator: ":").map(String.init)
}

/// One `name=value` word; `key` is lower-cased, `word` kept for messages.
struct Option {
    let key: String
    let value: String
    let word: String
}

/// Splits `name=value` words. Keys are matched case-insensitively; each may appear once.
func options(_ words: ArraySlice<String>, directive: String) throws -> [Option] {
    var seen: Set<String> = []
    return try words.map { word in
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
            throw ConfigError("\(directive): '\(word)' is not an option; options are written name=value")
        }
        let option = Option(key: word[..<equals].lowercased(), value: String(word[word.index(after: equals)...]), word: word)
        guard !option.value.isEmpty else { throw ConfigError("\(directive): option '\(word)' has no value") }
        guard seen.insert(option.key).inserted else {
            throw ConfigError("\(directive): option '\(option.key)' is given more than once")
        }
        return option
    }
}
