"""Loading the contract and the requirement catalog."""
