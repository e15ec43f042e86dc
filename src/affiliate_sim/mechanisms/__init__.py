"""The article's ten mechanisms, one module each.

Each module holds everything of its mechanism: the vectorized hazard terms the kernel uses
(pure numpy) and the decision rule the organizations apply in the decide phase (pure
functions over the model's arrays). No module imports Mesa or Hydra.

=================  ===================================================================
module             mechanism (cases.md numbering)
=================  ===================================================================
pledge             1. defection by pledge (bayat): individuals, factions, whole groups
retaliation        2. retaliation against defectors by the former ally or parent
purge              3. purge by an intelligence wing (amniyat)
counterterrorism   4. state raids, intelligence and decapitation
coalition          5. coalition of local groups against an outsider
schism             6. internal schism against a wali, in waves
momentum           7. momentum and propaganda ("remaining and expanding")
investment         8. foreign fighters and central investment
retreat            9. retreat, regrouping, safe passage
terrain            10. remoteness and terrain
=================  ===================================================================
"""
