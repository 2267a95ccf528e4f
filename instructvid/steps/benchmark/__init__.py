"""The evaluation protocol of Tables 3.3-3.4: splits, the method registry, the methods, RUN folders, tuning and transfer."""
