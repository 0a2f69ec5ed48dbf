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

    [GeneratedRegex(@"(?<key>\b(?:password|pwd|pass)\s*)=\s*(?:""[^""]*""|'[^']*'|[^;\s]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeywordPassword();

    [GeneratedRegex(@"(?<prefix>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s]*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlPassword();
}
