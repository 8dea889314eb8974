using Mesh.Transport.Framing;

namespace Mesh.Transport.Tests;

public sealed class FramedConnectionOptionsTests
{
    [Fact]
    public void The_framing_limits_come_from_the_mesh_options()
    {
        var mesh = new MeshOptions { MaxFrameSize = 4096, DefaultCallTimeout = TimeSpan.FromSeconds(3) };

        FramedConnectionOptions options = FramedConnectionOptions.FromMeshOptions(mesh);

        Assert.Equal((4096, TimeSpan.FromSeconds(3)), (options.MaxFrameSize, options.RequestTimeout));
        Assert.Equal(16 * 1024 * 1024, new MeshOptions().MaxFrameSize);
    }
}
