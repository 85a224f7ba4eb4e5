"""The service catalog: what incidents affect, who owns it, how critical it is."""
