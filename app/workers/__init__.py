"""The worker side's runtime: RQ workers that suit a platform, the shutdown flag, job progress."""
