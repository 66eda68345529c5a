"""pythae encoder/decoder MLPs matching tfvae's `nets.MLP`, importable without TensorFlow.

The pythae workers of `families_vs_pythae.py` run in a Python that has torch
and pythae but no TensorFlow, so this lives apart from `vs_pythae.py`.
"""


def pythae_nets(latent_dim, encoder_units=(512, 512), decoder_units=(512, 512)):
    """pythae encoder/decoder: MLPs on flattened 28x28 images, ReLU hidden
    layers, Gaussian posterior (mean, log-variance), sigmoid output."""
    import torch
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder

    def mlp(sizes):
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers)

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Flatten(), mlp((784, *encoder_units)))
            self.mu = torch.nn.Linear(encoder_units[-1], latent_dim)
            self.log_var = torch.nn.Linear(encoder_units[-1], latent_dim)

        def forward(self, x):
            h = self.net(x)
            return ModelOutput(embedding=self.mu(h), log_covariance=self.log_var(h))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(mlp((latent_dim, *decoder_units)), torch.nn.Linear(decoder_units[-1], 784),
                                           torch.nn.Sigmoid())

        def forward(self, z):
            return ModelOutput(reconstruction=self.net(z).reshape(-1, 1, 28, 28))

    return Encoder(), Decoder()
