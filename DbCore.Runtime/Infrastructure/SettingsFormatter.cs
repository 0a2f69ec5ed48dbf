using System.ComponentModel;
using System.Text;
using DbCore.ConnectionStrings;

namespace DbCore.Infrastructure;

/// <summary>The generated <c>ToString()</c> of settings classes: the well-known values with the password redacted.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SettingsFormatter
{
    /// <summary>Formats <paramref name="settings"/>; the connection string's password becomes <c>***</c>.</summary>
    public static string Format(string typeName, string connectionStringProperty, IDatabaseSettings settings)
    {
        var text = new StringBuilder(typeName).Append(" { ");
        text.Append(connectionStringProperty).Append(" = ").Append(ConnectionStringParser.Redact(settings.ConnectionString));
        text.Append(", Provider = ").Append(settings.Provider?.ToString() ?? "(attribute)");
        text.Append(", Pool = ").Append(settings.Pool);
        text.Append(", Retry = ").Append(settings.Retry);
        text.Append(", CommandTimeoutSeconds = ").Append(settings.CommandTimeoutSeconds);
        text.Append(", HealthTimeoutSeconds = ").Append(settings.HealthTimeoutSeconds);
        return text.Append(" }").ToString();
    }
}
