"""Prize promotions (有奖销售): prizes over the cap, missing disclosures, rules changed after launch."""
