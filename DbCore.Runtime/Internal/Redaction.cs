using System.Text.RegularExpressions;

namespace DbCore.Internal;

/// <summary>Removes passwords from free text (messages that may quote a connection string or URL).</summary>
internal static partial class Redaction
{
    public const string Mask = "***";

    public static string RedactText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        string result = KeywordPassword().Replace(text, "${key}=" + Mask);
        return UrlPassword().Replace(result, "${prefix}" + Mask + "@");
    }

    // A value as a connection string has it: quoted, with a doubled quote standing for one, or unquoted up to the next ';'
    // (spaces included; in free text the end of the line ends it too, so a sentence after a password is masked with it).
    // The quoted loops are atomic: a quote that never closes (a message cut short) is not taken back to an earlier doubled
    // quote, it falls to the unquoted form; and text glued after the closing quote goes with the value.
    [GeneratedRegex(@"(?<key>\b(?:password|pwd|pass)\s*)=\s*(?:""(?>(?:[^""]|"""")*)""|'(?>(?:[^']|'')*)')?[^;\r\n]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeywordPassword();

    [GeneratedRegex(@"(?<prefix>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s]*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlPassword();
}
