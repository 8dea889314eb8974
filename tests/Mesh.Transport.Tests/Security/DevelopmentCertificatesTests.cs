using Mesh.Transport.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Mesh.Transport.Tests.Security;

public sealed class DevelopmentCertificatesTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mesh-dev-certs-" + Guid.NewGuid().ToString("N"), ".mesh", "certs");

    public void Dispose()
    {
        string root = Path.GetDirectoryName(Path.GetDirectoryName(_folder))!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void FirstLoadCreatesTheFolderAndLaterLoadsReuseIt()
    {
        var options = new MeshTlsOptions { DevelopmentCertificateFolder = _folder };

        TransportCredentials first = TransportCredentialsLoader.Load(options, NullLogger.Instance);
        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(_folder, DevelopmentCertificates.NodePemFileName));
        TransportCredentials second = TransportCredentialsLoader.Load(options, NullLogger.Instance);

        Assert.True(File.Exists(Path.Combine(_folder, DevelopmentCertificates.CaFileName)));
        Assert.True(File.Exists(Path.Combine(_folder, DevelopmentCertificates.NodePfxFileName)));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(_folder, DevelopmentCertificates.NodePemFileName)));
        Assert.Equal(TransportCredentials.ThumbprintOf(first.Certificate), TransportCredentials.ThumbprintOf(second.Certificate));
        Assert.True(first.Certificate.HasPrivateKey);

        // Two nodes from the same folder trust each other, and nobody else.
        Assert.True(first.TryValidatePeer(second.Certificate, null, out _));
        Assert.False(first.TryValidatePeer(TestCertificates.NodeA, null, out var refusal));
        Assert.Equal("untrusted_certificate", refusal.Kind);
    }

    [Fact]
    public void PrivateKeyFilesAreReadableByTheirOwnerOnly()
    {
        TransportCredentialsLoader.Load(new MeshTlsOptions { DevelopmentCertificateFolder = _folder }, NullLogger.Instance);

        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes only; the folder inherits the user profile's ACL there.
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, DevelopmentCertificates.NodePemFileName)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, DevelopmentCertificates.NodePfxFileName)));
    }

    [Fact]
    public async Task ConcurrentFirstRunsAgreeOnOneSetOfCertificates()
    {
        const int Creators = 4;
        var options = new MeshTlsOptions { DevelopmentCertificateFolder = _folder };
        var logger = new RecordingLogger();
        using var start = new ManualResetEventSlim();
        Task<TransportCredentials>[] creators = new Task<TransportCredentials>[Creators];
        for (int i = 0; i < Creators; i++)
        {
            creators[i] = Task.Factory.StartNew(
                () =>
                {
                    start.Wait(TimeSpan.FromSeconds(30));
                    return TransportCredentialsLoader.Load(options, logger);
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        start.Set();
        TransportCredentials[] loaded = await Task.WhenAll(creators).WaitAsync(TimeSpan.FromSeconds(60));

        string node = TransportCredentials.ThumbprintOf(loaded[0].Certificate);
        string ca = TransportCredentials.ThumbprintOf(loaded[0].TrustedAuthorities[0]);
        foreach (TransportCredentials credentials in loaded)
        {
            Assert.Equal(node, TransportCredentials.ThumbprintOf(credentials.Certificate));
            Assert.Equal(ca, TransportCredentials.ThumbprintOf(credentials.TrustedAuthorities[0]));
        }

        Assert.Equal(1, logger.Count(321)); // created once
        Assert.Equal(Creators, logger.Count(320)); // used by all
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
        TransportCredentials later = TransportCredentialsLoader.Load(options, NullLogger.Instance);
        Assert.Equal(node, TransportCredentials.ThumbprintOf(later.Certificate));
    }

    [Fact]
    public void UnreadableCertificatesAreReplaced()
    {
        var options = new MeshTlsOptions { DevelopmentCertificateFolder = _folder };
        TransportCredentials original = TransportCredentialsLoader.Load(options, NullLogger.Instance);
        File.WriteAllText(Path.Combine(_folder, DevelopmentCertificates.NodePemFileName), "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");

        TransportCredentials replaced = TransportCredentialsLoader.Load(options, NullLogger.Instance);

        Assert.NotEqual(TransportCredentials.ThumbprintOf(original.Certificate), TransportCredentials.ThumbprintOf(replaced.Certificate));
        Assert.True(replaced.TryValidatePeer(replaced.Certificate, null, out _));
    }
}
