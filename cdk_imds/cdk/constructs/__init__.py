"""The secure constructs: ``SecureLaunchTemplate``, ``SecureAutoScalingGroup`` and their rules."""
