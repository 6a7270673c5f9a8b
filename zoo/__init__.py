"""Recurrent Zoo: recurrent networks (RNN, LSTM, GRU) for speech and text, trained,
exported to SavedModel and LiteRT, and run on a device."""

__version__ = "0.1.0"
