"""The ML code shared by training and serving: topic tree heads, encoder, runtime, bundle."""
