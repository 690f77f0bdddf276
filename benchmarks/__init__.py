"""The enms performance harness: scenarios measured against a floor taken in the same run."""
