"""Regulator mode: appeals (申诉) to the appeal centre (电信用户申诉受理中心).

What lives here today: the materials an appeal must carry (电信用户申诉处理办法
第十二条), the appeal kind's time limits as the deadline rules state them, and the
recourse a dissatisfied customer is told about. The time limits themselves stay
rules in data/deadline_rules.yaml, computed by `deadlines` like every other limit
(only deadlines/ computes a due time); this slice names and explains them.
"""
