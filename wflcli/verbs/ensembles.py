"""The MD ensembles, in a module of their own: ``wfl md --help`` lists them without
loading numpy or ASE."""

ENSEMBLES = ("nve", "langevin", "berendsen", "bussi", "nose-hoover", "npt-berendsen",
             "npt-mtk")
RAMPABLE = ("langevin", "berendsen", "npt-berendsen")  # may follow a temperature ramp
