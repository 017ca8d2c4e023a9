"""What golive puts around the team's client: a fault-injecting recording proxy and a bounded process runner."""
