"""False delivery, late dispatch, impossible trajectories and empty parcels."""
