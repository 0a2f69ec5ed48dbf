using System;

namespace DbCore;

/// <summary>
/// Marks a <see langword="partial"/> class as the settings of one database. At compile time DbCore generates the typed
/// accessor, the session, configuration binding and an <c>Add{Name}()</c> service registration for it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class DatabaseSettingsAttribute : Attribute
{
    /// <summary>
    /// The base name of the generated members (accessor <c>{Name}</c>, session <c>{Name}Session</c>, <c>Add{Name}()</c>).
    /// Defaults to the class name without a trailing <c>Settings</c> or <c>Options</c>.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>The provider; <see cref="DatabaseProvider.Auto"/> detects it from the connection string.</summary>
    public DatabaseProvider Provider { get; set; }

    /// <summary>The configuration section that holds the settings. Defaults to <see cref="Name"/>.</summary>
    public string? SectionName { get; set; }
}
