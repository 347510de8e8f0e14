"""The house style and every chart."""
