"""The control plane: DDS participants on loopback by default, typed topics and their QoS."""
