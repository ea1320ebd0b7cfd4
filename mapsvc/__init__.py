"""Service map (政务服务地图): halls, opening hours, appointments. Not built yet (issue 6)."""
